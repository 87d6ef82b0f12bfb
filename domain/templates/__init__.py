"""Hold-point templates: works kinds as data, and the checks that decide whether an inspection may pass."""

from domain.templates.catalog import TemplateCatalog, builtin_catalog
from domain.templates.model import (
    Check,
    ChecklistItem,
    HoldPointSpec,
    LinkedRequirement,
    MeasurementSpec,
    WorksKindTemplate,
)

__all__ = [
    "Check",
    "ChecklistItem",
    "HoldPointSpec",
    "LinkedRequirement",
    "MeasurementSpec",
    "TemplateCatalog",
    "WorksKindTemplate",
    "builtin_catalog",
]
