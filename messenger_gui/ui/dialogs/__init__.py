"""The app's dialogs, one module each. They emit signals and receive results through
methods; they never talk to the client core (``messenger_gui.app`` wires them)."""
