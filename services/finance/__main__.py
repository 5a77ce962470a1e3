"""``python -m services.finance``: run the finance service process."""

from services.finance.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
