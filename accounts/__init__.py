"""Accounts: the user model, stakeholder profiles and the django-allauth integration."""
