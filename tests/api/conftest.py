import pytest
from fastapi.testclient import TestClient

from chatapp.api.app import create_api


@pytest.fixture
def client(database_url):
    with TestClient(create_api()) as client:
        yield client
