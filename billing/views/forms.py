"""What billing's forms post, as the services take it."""


def card_from(post) -> dict:
    """A new card's fields from a form (Checkout, Purchase services): ``payment_method_add_card``'s arguments,
    passed on as typed (the service checks them)."""
    return {"number": post.get("card_number", ""), "expiry": post.get("card_expiry", ""),
            "holder_name": post.get("card_name", "")}
