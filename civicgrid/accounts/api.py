"""REST API of accounts: who am I, and the departments in my scope."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.accounts.models import Department, User
from civicgrid.accounts.selectors import departments_visible
from civicgrid.core.api import IsStaffMember, scope_of
from civicgrid.core.personal import PersonalKind, mask


class PostOut(serializers.Serializer):
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    scope = serializers.CharField(source="region_code")
    region = serializers.CharField(source="region.name")
    department = serializers.CharField(
        source="department.name", default=None, allow_null=True
    )


class MeOut(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    phone = serializers.SerializerMethodField()
    scopes = serializers.ListField(
        child=serializers.CharField(), source="scope_prefixes"
    )
    posts = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_phone(self, user: User) -> str:
        return mask(user.phone, PersonalKind.PHONE)

    @extend_schema_field(PostOut(many=True))
    def get_posts(self, user: User) -> list[dict[str, object]]:
        posts = user.posts.filter(active=True).select_related("region", "department")
        return PostOut(posts, many=True).data  # type: ignore[return-value]


class MeView(APIView):
    """The signed-in user, with roles and scopes (phone masked)."""

    @extend_schema(responses=MeOut)
    def get(self, request: Request) -> Response:
        return Response(MeOut(request.user).data)


class DepartmentOut(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name")

    class Meta:
        model = Department
        fields = ["id", "name", "kind", "level", "region_code", "region_name"]


class DepartmentList(generics.ListAPIView):
    """Departments inside the caller's scope."""

    permission_classes = [IsStaffMember]
    serializer_class = DepartmentOut
    filterset_fields = ["kind", "level"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return departments_visible(scope_of(self.request)).order_by(
            "region_code", "name"
        )
