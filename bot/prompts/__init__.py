"""Channel prompts: a scheduled question for career channels, with a button to start private prep."""
