from recordings_app.management.commands.demo import create_demo_user
from recordings_app.models import Credential


def test_the_demo_user_logs_in_and_sees_the_demo_space(client, db):
    create_demo_user()
    create_demo_user()  # running the demo again changes nothing
    assert client.login(username="demo", password="demo")
    response = client.get("/recordings/")
    assert response.status_code == 200 and "Demo space" in response.content.decode()
    assert Credential.objects.filter(user__username="demo", is_active=True).count() == 1


def test_the_demo_user_is_a_supervisor(db):
    assert create_demo_user().has_perm("recordings_app.delete_recording")
