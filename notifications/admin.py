from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "recipient", "comment", "state", "attempts", "created_at"]
    list_filter = ["state", "kind"]
    raw_id_fields = ["recipient", "comment"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    # Rows are written by the services and the delivery only; the admin shows them.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
