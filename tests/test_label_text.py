"""Labels are translated once per process and language, and still follow
the language of each request."""

from flask_babel import force_locale

from market.markets.models import MarketStatus
from market.markets.services import status_label
from market.vendors.labels import category_label
from market.vendors.models import Category


def test_labels_follow_the_language_of_the_request(app):
    with app.test_request_context():
        with force_locale("ko"):
            korean = (status_label(MarketStatus.CANCELLED), category_label(Category.FOOD))
        with force_locale("en"):
            english = (status_label(MarketStatus.CANCELLED), category_label(Category.FOOD))
        with force_locale("ko"):
            again = (status_label(MarketStatus.CANCELLED), category_label(Category.FOOD))
    assert english == ("cancelled", "Food")
    assert korean == again
    assert korean != english and all(korean)
