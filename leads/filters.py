import django_filters

from .models import LeadSource, LifecycleStage


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=LifecycleStage.choices)
    source = django_filters.ChoiceFilter(choices=LeadSource.choices)
    industry = django_filters.CharFilter(lookup_expr="iexact", max_length=100)
    country = django_filters.CharFilter(lookup_expr="iexact", max_length=2)
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=-1e9, max_value=1e9)
