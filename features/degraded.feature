Feature: jessy-api degrades when jessy-core is down
  The pipeline starts a second jessy-api whose jessy-core URL points at a port
  where nothing listens, and passes that instance's URL as JESSY_API_ORPHAN_URL.

  Scenario: jessy-api reports degraded health when its jessy-core is unreachable
    When I check the health of the jessy-api whose jessy-core is down
    Then the response status is 503
    And the response is a JSON object
    And the JSON field "status" is "degraded"
    And the JSON field "core.status" is "unreachable"

  Scenario: jessy-api cannot accept an upload when its jessy-core is unreachable
    Given a new layer name
    And a payload of 32 random bytes
    When I upload the payload through the jessy-api whose jessy-core is down
    Then the response is a server error
