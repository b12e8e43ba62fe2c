Feature: Invalid layer names and oversize layers are rejected
  A layer name must match ^[a-z0-9][a-z0-9._-]{0,63}$ and a layer may hold
  at most JESSY_MAX_LAYER_BYTES bytes. Both services reject anything else with
  a JSON error: 400 for an invalid name, 413 for a layer that is too large.
  jessy-api checks both before it forwards anything to jessy-core.

  Scenario Outline: <service> rejects an upload to the invalid layer name "<name>"
    When I upload 3 bytes to the layer named "<name>" through <service>
    Then the response status is 400
    And the response is a JSON error
    And no layer named "<name>" is listed by jessy-core

    Examples: through jessy-core
      | service    | name                                                              | why                            |
      | jessy-core | Bad_Name                                                          | upper-case letters             |
      | jessy-core | UPPER                                                             | upper-case letters only        |
      | jessy-core | -dash                                                             | starts with a dash             |
      | jessy-core | .hidden                                                           | starts with a dot              |
      | jessy-core | _under                                                            | starts with an underscore      |
      | jessy-core | has space                                                         | contains a space (sent as %20) |
      | jessy-core | a*b                                                               | contains a forbidden character |
      | jessy-core | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | 65 characters, one too many    |

    Examples: through jessy-api
      | service   | name                                                              | why                            |
      | jessy-api | Bad_Name                                                          | upper-case letters             |
      | jessy-api | UPPER                                                             | upper-case letters only        |
      | jessy-api | -dash                                                             | starts with a dash             |
      | jessy-api | .hidden                                                           | starts with a dot              |
      | jessy-api | _under                                                            | starts with an underscore      |
      | jessy-api | has space                                                         | contains a space (sent as %20) |
      | jessy-api | a*b                                                               | contains a forbidden character |
      | jessy-api | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | 65 characters, one too many    |

  Scenario Outline: <service> rejects a download of the invalid layer name "<name>"
    When I download the layer named "<name>" through <service>
    Then the response status is 400
    And the response is a JSON error

    Examples:
      | service    | name                                                              |
      | jessy-core | Bad_Name                                                          |
      | jessy-core | .hidden                                                           |
      | jessy-core | has space                                                         |
      | jessy-core | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |
      | jessy-api  | Bad_Name                                                          |
      | jessy-api  | .hidden                                                           |
      | jessy-api  | has space                                                         |
      | jessy-api  | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |

  Scenario: A layer name of the maximum length of 64 characters is accepted
    Given a new layer name of 64 characters
    And a payload of 16 random bytes
    When I upload the payload through jessy-api
    Then the response status is 201
    And the JSON field "name" is the layer name
    When I download the layer through jessy-core
    Then the response status is 200
    And the response body is the payload

  Scenario Outline: <service> rejects a layer one byte over the size limit
    Given a new layer name
    And a payload one byte larger than the maximum layer size
    When I upload the payload through <service>
    Then the response status is 413
    And the response is a JSON error
    When I download the layer through jessy-core
    Then the response status is 404

    Examples:
      | service    |
      | jessy-core |
      | jessy-api  |

  Scenario: A layer of exactly the maximum size is accepted through jessy-api
    Given a new layer name
    And a payload of exactly the maximum layer size
    When I upload the payload through jessy-api
    Then the response status is 201
    And the JSON field "size" is the maximum layer size
    When I download the layer through jessy-core
    Then the response status is 200
    And the response body is the payload
