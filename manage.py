#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openimis_be.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # a missing SECRET_KEY or a bad variable: one line saying what to set, no traceback
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"manage.py: {exc}\n")
        sys.exit(2)
    execute_from_command_line(sys.argv)
