"""The web front: the one address people open (server-rendered pages, no case data of its own)."""
