"""Local fakes of third-party services, for end-to-end tests."""
