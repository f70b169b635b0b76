"""Masking of individual attributes (spec §3: ``individual_masking_enabled``, ``individual_mask_fields``);
the mechanics live in :mod:`core.masking`."""
from core import masking
from core.masking import MASK_STRING, mask_json  # noqa: F401  (re-exported for callers and tests)
from individual.apps import IndividualConfig


def mask_paths():
    return masking.parse_mask_paths(IndividualConfig.individual_mask_fields)


def masking_applies(user):
    return masking.masking_applies(user, IndividualConfig.individual_masking_enabled)


def mask_for(user, json_ext):
    return masking.mask_for(user, json_ext, IndividualConfig.individual_mask_fields,
                            IndividualConfig.individual_masking_enabled)


def mask_queryset(queryset, user, json_paths=("json_ext",)):
    return masking.mask_queryset(queryset, user, IndividualConfig.individual_mask_fields,
                                 IndividualConfig.individual_masking_enabled, json_paths)
