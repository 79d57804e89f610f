"""The console's need pages: /needs/…"""

app_name = "needs"
urlpatterns: list = []
