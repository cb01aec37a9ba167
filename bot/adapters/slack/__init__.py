"""The Slack front end: `app` wires slack-bolt to the runner, `render` builds Block Kit,
`inbound` reads Slack payloads into engine events, `server` runs Socket Mode or HTTP."""
