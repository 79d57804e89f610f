"""The console home page's cards. Domain apps register a card in their AppConfig.ready(),
so core shows their counts without importing them (dependencies run one way)."""

from collections.abc import Callable

# Each provider takes the user and returns a list of (label, number, url-or-None).
_providers: list[Callable] = []


def register_home_card(provider: Callable) -> Callable:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def home_cards(user) -> list[dict]:
    cards = []
    for provider in _providers:
        cards.extend({"label": label, "value": value, "url": url} for label, value, url in provider(user))
    return cards
