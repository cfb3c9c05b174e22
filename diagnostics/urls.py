from django.urls import path

from . import views

app_name = "diagnostics"

urlpatterns = [
    # Consultation pages (pages of the diagnostic) -----------------------------------
    # Lists, exports and search -------------------------------------------------------
]
