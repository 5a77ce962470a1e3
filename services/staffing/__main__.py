"""``python -m services.staffing``: run the staffing service process."""

from services.staffing.bootstrap import build

if __name__ == "__main__":
    build().run()
