from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from bianmin.accounts.menu import menu_for
from bianmin.accounts.principals import principal_of
from bianmin.accounts.roles import CAPABILITIES


def public_home(request):
    # The finder belongs to regions (areas and sites); this module only routes to it.
    from bianmin.regions.views import public_home as finder

    return finder(request)


@login_required
def staff_home(request):
    assignments = request.user.active_assignments()
    principal = principal_of(request)
    return render(request, "staff_home.html", {
        "assignments": assignments,
        "menu": menu_for(principal, request.user),
        "has_capabilities": any(CAPABILITIES.get(a.role) for a in assignments),
    })
