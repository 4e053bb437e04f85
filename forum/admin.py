"""The admin site's names: the site's own, translated, instead of "Django administration"."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("GCM Consultations")
admin.site.site_title = _("GCM Consultations admin")
admin.site.index_title = _("Consultations, comments and participants")
