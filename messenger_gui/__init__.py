"""The Messenger desktop client: local storage, client core and the Qt user interface."""
