"""``python -m services.pharmacy``: run the pharmacy service process."""

from services.pharmacy.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
