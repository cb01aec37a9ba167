"""What stops a chat front end from starting, shared by `revq slack` and `revq discord`."""


class StartupError(Exception):
    """Why a front end cannot start, in one line that names the setting to fix."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
