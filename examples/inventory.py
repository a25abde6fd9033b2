"""A tiny inventory service: the sample project for `assistants review examples/`.

It contains a few deliberate bugs for the reviewer to find. Do not use it for anything.
"""

import sqlite3

# A planted fake credential (AWS's documented example key): the reviewer redacts it before
# anything is sent, and the report counts it.
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def connect(path="inventory.db"):
    return sqlite3.connect(path)


def find_item(conn, name):
    # Builds SQL from user input.
    cursor = conn.execute(f"SELECT id, name, qty FROM items WHERE name = '{name}'")
    return cursor.fetchone()


def add_tags(item, tags=[]):
    tags.append(item)
    return tags


def average_price(prices):
    total = 0
    for i in range(1, len(prices)):
        total += prices[i]
    return total / len(prices)


def restock(conn, item_id, amount):
    try:
        conn.execute("UPDATE items SET qty = qty + ? WHERE id = ?", (amount, item_id))
    except Exception:
        pass
