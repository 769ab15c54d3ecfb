from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def api_root(request):
    """Who is asking, for which company, and what the API offers."""
    return Response({
        "company": {"name": request.tenant.name, "schema": request.tenant.schema_name},
        "user": {"email": request.user.email, "role": request.user.role},
        "endpoints": {},
    })
