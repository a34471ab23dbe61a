"""SSM parameters of a template, provisioned into the emulation; `!Ref` gives their name."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from warung_local.emulation import Emulation, aws_client
from warung_local.provision import provision
from warung_local.template import Template, parameter_values, parse_template_text

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: local}
Resources:
  JwksParameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub /warung-test-${Suffix}/${Stage}/jwks
      Type: String
      Value: '{"keys": []}'
      Description: Public keys that verify access tokens.
  Regions:
    Type: AWS::SSM::Parameter
    Properties:
      Type: StringList
      Value: !Join [",", [a, b, c]]
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/reader
      Handler: app.handler
      Environment:
        Variables:
          JWKS_PARAMETER_NAME: !Ref JwksParameter
          REGIONS_PARAMETER: !Ref Regions
"""


def _template() -> Template:
    # A fresh name per run: moto's state is process-wide and shared with other tests.
    suffix = uuid.uuid4().hex[:8]
    document = parse_template_text(TEMPLATE.replace("${Suffix}", suffix))
    return Template(
        document, Path.cwd(), parameter_values(document, None), stack_name="warung-local"
    )


def test_parameters_are_created_with_their_type_and_value(emulation: Emulation) -> None:
    # given: a template with a named String parameter and an unnamed StringList
    template = _template()

    # when: provisioning it
    physical = provision(template, emulation.endpoint_url)

    # then: both exist as declared; the unnamed one got the stack-prefixed name
    ssm = aws_client("ssm", emulation.endpoint_url)
    jwks_name = template.ssm_parameters["JwksParameter"].name
    assert jwks_name.startswith("/warung-test-")
    assert jwks_name.endswith("/local/jwks")
    jwks = ssm.get_parameter(Name=jwks_name)["Parameter"]
    assert (jwks["Type"], json.loads(jwks["Value"])) == ("String", {"keys": []})
    regions = ssm.get_parameter(Name="warung-local-Regions")["Parameter"]
    assert (regions["Type"], regions["Value"]) == ("StringList", "a,b,c")
    assert physical.parameter_names == {
        "JwksParameter": jwks_name,
        "Regions": "warung-local-Regions",
    }


def test_ref_of_a_parameter_resolves_to_its_name(emulation: Emulation) -> None:
    template = _template()

    resolved = template.with_physical(provision(template, emulation.endpoint_url))

    environment = resolved.functions["Reader"].environment
    assert environment["JWKS_PARAMETER_NAME"] == template.ssm_parameters["JwksParameter"].name
    assert environment["REGIONS_PARAMETER"] == "warung-local-Regions"
    ssm = aws_client("ssm", emulation.endpoint_url)
    assert ssm.get_parameter(Name=environment["JWKS_PARAMETER_NAME"])["Parameter"]["Value"]


def test_provisioning_again_keeps_a_value_changed_since(emulation: Emulation) -> None:
    # given: a provisioned parameter whose value was changed afterwards (a key rotation)
    template = _template()
    provision(template, emulation.endpoint_url)
    ssm = aws_client("ssm", emulation.endpoint_url)
    name = template.ssm_parameters["JwksParameter"].name
    ssm.put_parameter(Name=name, Value='{"keys": [{"kid": "k1"}]}', Type="String", Overwrite=True)

    # when: provisioning again (an `invoke` against a running `dev`)
    provision(template, emulation.endpoint_url)

    # then: the changed value is kept
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert json.loads(value) == {"keys": [{"kid": "k1"}]}
