"""The Qt user interface: theme, models, delegates, widgets and dialogs (PySide6 only here)."""
