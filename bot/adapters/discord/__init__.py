"""Discord front end: discord.py wired to the runner (app), embeds and components (render)."""
