"""/.well-known/smart-configuration lists the SMART system scopes a client can be granted,
with the permission syntaxes and the private_key_jwt facts a Backend Services client needs."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from telehub.auth import ALL_SCOPES, KIND_SCOPES, smart_scope_needs
from telehub.settings import Settings
from tests.factories import Network
from tests.http.oauth_support import ask_token, basic, granted

SMART = "/.well-known/smart-configuration"


async def test_the_smart_configuration_describes_backend_services_with_system_scopes(
    client: TestClient, settings: Settings
) -> None:
    response = await client.get(SMART)
    assert response.status == 200
    assert response.content_type == "application/json"
    config = await response.json()
    assert config["token_endpoint"] == settings.token_endpoint
    assert config["grant_types_supported"] == ["client_credentials"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    assert {"client-confidential-asymmetric", "permission-v2", "permission-v1"} <= set(
        config["capabilities"]
    )
    scopes = config["scopes_supported"]
    smart = [s for s in scopes if s.startswith("system/")]
    assert {
        "system/Slot.rs",
        "system/Schedule.rs",
        "system/Appointment.cruds",
        "system/Patient.rs",
        "system/DocumentReference.rs",
        "system/ServiceRequest.rs",
        "system/Task.rs",
        "system/Practitioner.rs",
        "system/PractitionerRole.rs",
        "system/HealthcareService.rs",
        "system/Organization.rs",
    } == set(smart)
    assert set(scopes) - set(smart) == ALL_SCOPES
    usable = frozenset().union(*KIND_SCOPES.values())
    for scope in smart:
        needs = smart_scope_needs(scope)
        assert needs is not None and needs <= usable


async def test_every_smart_scope_a_clinic_can_use_is_granted_as_listed(
    client: TestClient, network: Network
) -> None:
    config = await (await client.get(SMART)).json()
    spoke = await network.spoke()
    for scope in (s for s in config["scopes_supported"] if s.startswith("system/")):
        needs = smart_scope_needs(scope)
        assert needs is not None
        if not needs <= KIND_SCOPES["spoke"]:
            continue
        body = await granted(
            await ask_token(client, {"scope": scope}, basic(spoke.client_id, spoke.client_secret))
        )
        assert set(body["scope"].split()) == {scope, *needs}
