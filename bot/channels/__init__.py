"""Channel adapters: each turns its channel's input into a `Message` and delivers the replies."""
