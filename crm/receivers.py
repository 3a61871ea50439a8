"""Receivers of the crm app. Connected on import from CrmConfig.ready()."""
