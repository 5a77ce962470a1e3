"""``python -m services.pharmacy``: run the pharmacy service process."""

from services.pharmacy.bootstrap import build

if __name__ == "__main__":
    build().run()
