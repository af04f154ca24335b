@connectivity @week0
Feature: Connectivity before Market Sim
  Two weeks before Market Sim every participant proves that its certificate opens all ten CRR
  services, and that the system refuses certificates it must not accept.

  @plan:CONN-CERTIFY @plan:CONN-SERVICES
  Scenario Outline: <sc> certifies its connectivity
    When participant "<sc>" runs the connectivity probe
    Then the participant is certified
    And all 10 CRR services answered the probe

    Examples:
      | sc   |
      | ECAL |
      | WCAL |
      | NCAL |

  @plan:CONN-SERVICES @negative
  Scenario: A certificate provisioned for only some services is told which ones it lacks
    When the connectivity probe runs with the "ycal-partial" certificate for "YCAL"
    Then the participant is not certified
    And the probe names the services the certificate may not use

  @plan:CONN-BAD-CERTS @negative
  Scenario Outline: A certificate that must not work is refused: <certificate>
    When the connectivity probe runs with the bad certificate "<certificate>"
    Then the participant is not certified
    And no CRR service accepted the certificate

    Examples:
      | certificate    |
      | expired        |
      | not-yet-valid  |
      | unknown-ca     |
      | no-client-auth |
