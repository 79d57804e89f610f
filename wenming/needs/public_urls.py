"""The public need pages (no account): /n/… — filled in by the phone pages."""

app_name = "n"
urlpatterns: list = []
