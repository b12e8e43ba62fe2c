Feature: Health of jessy-core and jessy-api
  Both services answer a health check. jessy-api also reports whether it
  can reach the jessy-core it forwards uploads to.

  Scenario: jessy-core reports that it is healthy
    When I check the health of jessy-core
    Then the response status is 200
    And the response is a JSON object
    And the JSON field "status" is "ok"
    And the JSON field "service" is "jessy-core"
    And the JSON field "version" is a non-empty string
    And the JSON field "layers" is a non-negative integer

  Scenario: jessy-api reports that it is healthy and reaches jessy-core
    When I check the health of jessy-api
    Then the response status is 200
    And the response is a JSON object
    And the JSON field "status" is "ok"
    And the JSON field "service" is "jessy-api"
    And the JSON field "version" is a non-empty string
    And the JSON field "core.status" is "ok"
    And the JSON field "core.latency_ms" is a non-negative number
