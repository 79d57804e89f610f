from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("nodes/<int:pk>/", views.node_detail, name="node"),
    path("nodes/<int:pk>/add/", views.node_add, name="node_add"),
    path("nodes/<int:pk>/edit/", views.node_edit, name="node_edit"),
    path("platforms/", views.platforms, name="platforms"),
    path("platforms/add/", views.platform_add, name="platform_add"),
    path("platforms/<int:pk>/edit/", views.platform_edit, name="platform_edit"),
    path("departments/add/", views.department_add, name="department_add"),
    path("social-orgs/", views.social_orgs, name="social_orgs"),
    path("social-orgs/add/", views.social_org_add, name="social_org_add"),
    path("social-orgs/<int:pk>/edit/", views.social_org_edit, name="social_org_edit"),
    path("sites/", views.sites, name="sites"),
    path("sites/add/", views.site_add, name="site_add"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("contact-points/", views.contact_points, name="contact_points"),
    path("contact-points/add/", views.contact_point_add, name="contact_point_add"),
    path("contact-points/<int:pk>/", views.contact_point_detail, name="contact_point"),
    path("contact-points/<int:pk>/visits/", views.contact_point_visit, name="contact_point_visit"),
    path("contact-points/<int:pk>/edit/", views.contact_point_edit, name="contact_point_edit"),
]
