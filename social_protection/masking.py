"""Masking of beneficiary attributes (spec §6: ``social_protection_masking_enabled``, ``beneficiary_mask_fields``,
``group_beneficiary_mask_fields``); the mechanics live in :mod:`core.masking`."""
from core import masking
from core.masking import MASK_STRING, mask_json  # noqa: F401  (re-exported for callers and tests)
from social_protection.apps import SocialProtectionConfig


def _fields(group):
    return (SocialProtectionConfig.group_beneficiary_mask_fields if group
            else SocialProtectionConfig.beneficiary_mask_fields)


def mask_paths(group=False):
    return masking.parse_mask_paths(_fields(group))


def masking_applies(user):
    return masking.masking_applies(user, SocialProtectionConfig.social_protection_masking_enabled)


def mask_for(user, json_ext, group=False):
    return masking.mask_for(user, json_ext, _fields(group), SocialProtectionConfig.social_protection_masking_enabled)


def mask_queryset(queryset, user, group=False):
    return masking.mask_queryset(queryset, user, _fields(group),
                                 SocialProtectionConfig.social_protection_masking_enabled)
