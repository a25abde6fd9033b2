"""The assistants' tasks: each returns a typed pydantic result and never prints."""
