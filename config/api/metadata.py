"""OPTIONS answers. DRF's SimpleMetadata calls ``get_object()`` for every PUT a view allows, which
fails (an AssertionError, a 500) on a PUT route that has no ``pk`` in its URL, such as
``PUT /api/leads/by-email/<email>/``; this one only looks up an object when the URL names one."""

from rest_framework.metadata import SimpleMetadata


class BatonMetadata(SimpleMetadata):
    def determine_actions(self, request, view):
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if hasattr(view, "get_object") and lookup not in (getattr(view, "kwargs", None) or {}):
            original = view.get_object
            view.get_object = lambda: None
            try:
                return super().determine_actions(request, view)
            finally:
                view.get_object = original
        return super().determine_actions(request, view)
