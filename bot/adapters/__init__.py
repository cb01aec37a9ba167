"""Front ends: each turns its platform's input into engine events and renders the replies."""
