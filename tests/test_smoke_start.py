"""A newcomer's first look: the site answers with the three offerings."""


def test_newcomer_sees_the_three_offerings(client):
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "indoor set" in page
    assert "outdoor set" in page
    assert "textile industry" in page


def test_health_check_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
