"""``python -m services.staffing``: run the staffing service process."""

from services.staffing.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
