@week2 @tuesday @allocation @annual
Feature: Week 2 Tuesday - annual allocation
  Participants nominate tier 1 CRRs for the four 2026 seasons against their dummy SEQ, upper
  bound and signature pair data.

  Background:
    Given the Market Sim plan is set up
    And it is Tuesday 10:00 of week 2
    And I am the participant
    And I work in the annual allocation market

  @plan:W2-TUE-SEQ-UB-SIG
  Scenario Outline: Download my <download> data for the annual allocation
    When I download "<download>" as CSV
    Then I receive a ZIP archive holding CSV data
    And the download mentions my SC ID

    Examples:
      | download    |
      | SEQ         |
      | UPPER_BOUND |
      | SIGNATURE   |

  @plan:W2-TUE-NOMINATE-T1
  Scenario: Nominate tier 1 annual CRRs for every season
    When I create the nomination portfolio "2026 annual T1" from the file "nominations_annual.csv"
    Then the request succeeds
    And the nomination portfolio "2026 annual T1" holds 8 nominations
    When I submit the nomination portfolio "2026 annual T1"
    Then the nomination portfolio "2026 annual T1" has status "SUBMITTED"

  @plan:W2-TUE-NOMINATE-T1 @negative
  Scenario: A nomination for a period outside the annual market is refused
    When I create the nomination portfolio "2026 annual wrong period" with these nominations:
      | source           | sink           | tou | mw | period   |
      | TH_NP15_GEN-APND | DLAP_PGAE-APND | ON  | 5  | 2026_M03 |
    Then the request is refused

  @plan:W2-TUE-NOMINATE-T1 @negative
  Scenario: 501 annual nominations are refused
    When I create the nomination portfolio "2026 annual bulk 501" from the file "nominations_501.csv"
    Then the request is refused with HTTP 400

  @plan:W2-TUE-NOMINATE-T1 @negative
  Scenario: Another participant cannot delete my annual nominations
    When I create the nomination portfolio "2026 annual mine" from the file "nominations_annual.csv"
    And participant "WCAL" deletes my nomination portfolio "2026 annual mine"
    Then the request is refused with error "SEC0001"
    And the nomination portfolio "2026 annual mine" has status "VALID"

  @plan:W2-TUE-NOMINATE-T1 @negative @readonly
  Scenario: A read-only certificate cannot nominate
    Given I am participant "ECAL" using the "ecal-readonly" certificate
    When I create the nomination portfolio "2026 annual read-only" from the file "nominations_annual.csv"
    Then the request is refused with HTTP 403

  @plan:W2-TUE-NOMINATE-T1 @negative
  Scenario: The annual allocation window closes on Wednesday
    Given it is Wednesday 17:30 of week 2
    When I create the nomination portfolio "2026 annual late" from the file "nominations_annual.csv"
    Then the request is refused with error "MKT0004"
