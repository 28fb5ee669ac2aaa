"""The desktop application (PySide6 only here; the core below never imports Qt)."""
