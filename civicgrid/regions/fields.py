"""A geometry column without GDAL: Shapely geometries stored as WKB (WGS-84 lon/lat)."""

from typing import Any

import shapely
from django.db import models
from shapely.geometry.base import BaseGeometry


class GeometryField(models.BinaryField):
    description = "Geometry (WKB, WGS-84)"
    # What django-stubs reports for instances of the field.
    _pyi_private_set_type: BaseGeometry | bytes | None
    _pyi_private_get_type: BaseGeometry

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", True)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return shapely.from_wkb(bytes(value))

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, BaseGeometry):
            return value
        if isinstance(value, str):
            return shapely.from_wkt(value)
        return shapely.from_wkb(bytes(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, BaseGeometry):
            return shapely.to_wkb(value)
        return value

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else shapely.to_wkt(value)
