from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Segment


@login_required
def segment_list(request):
    return render(request, "leads/segment_list.html", {"segments": Segment.objects.all()})
