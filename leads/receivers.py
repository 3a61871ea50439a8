"""Receivers of the leads app. Connected on import from LeadsConfig.ready()."""
