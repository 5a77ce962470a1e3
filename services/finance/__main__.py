"""``python -m services.finance``: run the finance service process."""

from services.finance.bootstrap import build

if __name__ == "__main__":
    build().run()
