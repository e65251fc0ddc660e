"""The Qt user interface: theme, models, delegates, widgets and dialogs (PySide6 only here).

Importing the package applies :func:`messenger_gui.ui.compat.protect_none_refcount`, which
keeps a known PySide6 defect from aborting the process (see that module).
"""

from messenger_gui.ui.compat import protect_none_refcount

protect_none_refcount()
