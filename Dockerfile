# One image for every service; the service is chosen by the command:
#   docker run county-medical-community:0.1.0 services.pharmacy
#   docker run county-medical-community:0.1.0 libs.platform.migrations upgrade --service pharmacy
#   docker run county-medical-community:0.1.0 libs.events.topics create
# Built only from files in this repository and packages from PyPI, pinned by constraints.txt.

FROM python:3.11.13-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml constraints.txt ./
# Runtime dependencies only (not the embedded broker, not the dev tools), from pyproject.toml.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install -c constraints.txt -r requirements.txt

FROM python:3.11.13-slim-bookworm
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY libs ./libs
COPY services ./services
COPY infra ./infra
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/tmp/data \
    HTTP_HOST=0.0.0.0 \
    MALLOC_ARENA_MAX=2
USER app
EXPOSE 8101 8102 8103 8104 8105
ENTRYPOINT ["python", "-m"]
CMD ["services.pharmacy"]
