Feature: Layers written through jessy-api are stored by jessy-core
  jessy-api forwards uploads to jessy-core, which stores them on the shared
  volume. Both services serve the stored bytes back unchanged.

  Scenario: A layer written through jessy-api reads back the same through both services
    Given a new layer name
    And a payload of 4096 random bytes
    When I upload the payload through jessy-api
    Then the response status is 201
    And the response is a JSON object
    And the JSON field "name" is the layer name
    And the JSON field "size" is 4096
    When I download the layer through jessy-core
    Then the response status is 200
    And the response body is the payload
    When I download the layer through jessy-api
    Then the response status is 200
    And the response body is the payload

  Scenario Outline: A layer written through jessy-api is listed by <service>
    Given a new layer name
    And a layer of 512 random bytes uploaded through jessy-api
    When I list the layers through <service>
    Then the response status is 200
    And the response is a JSON object
    And the listing contains the layer with size 512

    Examples:
      | service    |
      | jessy-core |
      | jessy-api  |

  Scenario: Replacing a layer through jessy-api answers 200 and serves the new bytes
    Given a new layer name
    And a layer of 1024 random bytes uploaded through jessy-api
    And a payload of 100 random bytes
    When I upload the payload through jessy-api
    Then the response status is 200
    And the JSON field "name" is the layer name
    And the JSON field "size" is 100
    When I download the layer through jessy-core
    Then the response status is 200
    And the response body is the payload
    When I download the layer through jessy-api
    Then the response status is 200
    And the response body is the payload

  Scenario: A layer deleted through jessy-core is gone from both services
    Given a new layer name
    And a layer of 64 random bytes uploaded through jessy-api
    When I delete the layer through jessy-core
    Then the response status is 204
    When I download the layer through jessy-core
    Then the response status is 404
    And the response is a JSON error
    When I download the layer through jessy-api
    Then the response status is 404
    And the response is a JSON error

  Scenario Outline: <service> answers 404 for a layer that does not exist
    Given a new layer name
    When I download the layer through <service>
    Then the response status is 404
    And the response is a JSON error

    Examples:
      | service    |
      | jessy-core |
      | jessy-api  |
