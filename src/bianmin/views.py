from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def public_home(request):
    return render(request, "public_home.html")


@login_required
def staff_home(request):
    assignments = request.user.active_assignments()
    return render(request, "staff_home.html", {"assignments": assignments})
